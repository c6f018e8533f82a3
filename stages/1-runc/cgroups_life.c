/* cgroups_life.c: a container cgroup's life: create (mkdir, limits, join),
 * enter (exec), update, freeze/thaw (pause/resume), list pids, destroy.
 * The steps and their order follow runc's cgroup managers (fs, fs2):
 *   create  = validate the limits against the host (dry run)
 *           -> mkdir every level, enabling controllers on v2 and seeding
 *              cpuset on v1 -> write the limits -> write the pid to
 *              cgroup.procs; any failure removes what this call made;
 *   destroy = SIGKILL what is left -> wait until cgroup.procs is empty
 *           -> rmdir, deepest first, in every hierarchy. */
#include "cgroups_internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

#define MAX_CREATED 64
#define WAIT_STEPS 400 /* bounded polls: about 4 s with the backoff below */

static void
nap(int step)
{
  struct timespec ts = {0, (step < 10 ? 1 : 10) * 1000000L};
  nanosleep(&ts, NULL);
}

static void
fill_handle(const cg_layout *layout, const char *path, cg_handle *out)
{
  memset(out, 0, sizeof *out);
  out->layout = *layout;
  snprintf(out->path, sizeof out->path, "%s", path);
}

static int
check_path(const char *path, cut_err *err)
{
  if (path == NULL || path[0] != '/' || strcmp(path, "/") == 0 || strstr(path, "/../") ||
      (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
    return cut_error(err, 0, "cgroup path \"%s\": not a container cgroup", path ? path : "");
  return 0;
}

/* ---- create ------------------------------------------------------------- */

typedef struct created {
  char path[MAX_CREATED][PATH_MAX];
  size_t n;
} created;

static void
rollback(created *c)
{
  cut_err ignored;
  while (c->n > 0)
    (void)cg_rmdir(c->path[--c->n], &ignored);
}

/* v2: make the controllers this container needs usable in the child of
 * `dir` by listing them in dir/cgroup.subtree_control ("+memory +pids"),
 * limited to what dir/cgroup.controllers offers. */
static int
enable_controllers(const char *dir, unsigned wanted, unsigned required, cut_err *err)
{
  char p[PATH_MAX], avail[512], on[512], line[256] = "";
  if (snprintf(p, sizeof p, "%s/cgroup.controllers", dir) >= (int)sizeof p ||
      cg_read(p, avail, sizeof avail, err) < 0)
    return -1;
  if (snprintf(p, sizeof p, "%s/cgroup.subtree_control", dir) >= (int)sizeof p ||
      cg_read(p, on, sizeof on, err) < 0)
    return -1;
  for (int c = 0; c < CGC_COUNT; c++) {
    const char *name = cg_ctrl_name((enum cg_ctrl)c, true);
    if (name == NULL || !(wanted & CG_BIT(c)) || c == CGC_DEVICES || c == CGC_FREEZER)
      continue;
    char word[40];
    snprintf(word, sizeof word, " %s ", name);
    char a[520], o[520];
    snprintf(a, sizeof a, " %s ", avail);
    snprintf(o, sizeof o, " %s ", on);
    if (strstr(o, word))
      continue;
    if (!strstr(a, word)) {
      if (required & CG_BIT(c))
        return cut_error(err, 0, "enable %s in %s: not listed in %s/cgroup.controllers", name, p,
                         dir);
      continue;
    }
    size_t used = strlen(line);
    snprintf(line + used, sizeof line - used, "%s+%s", used ? " " : "", name);
  }
  if (line[0] == '\0')
    return 0;
  return cg_write(p, line, err);
}

/* v1 cpuset: a new cgroup starts with empty cpuset.cpus and cpuset.mems and
 * the kernel refuses tasks until they are set; inherit the parent's. */
static int
cpuset_seed(const char *dir, const char *parent, cut_err *err)
{
  static const char *files[] = {"cpuset.cpus", "cpuset.mems"};
  for (size_t i = 0; i < 2; i++) {
    char p[PATH_MAX], v[512];
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    if (cg_read(p, v, sizeof v, err) < 0)
      return -1;
    if (v[0] != '\0')
      continue;
    char pp[PATH_MAX];
    if (snprintf(pp, sizeof pp, "%s/%s", parent, files[i]) >= (int)sizeof pp ||
        cg_read(pp, v, sizeof v, err) < 0 || cg_write(p, v, err) < 0)
      return -1;
  }
  return 0;
}

/* mkdir every level of cgpath in one hierarchy. */
static int
make_levels(const cg_tree *t, const cg_hier *h, const char *cgpath, unsigned wanted,
            unsigned required, created *made, cut_err *err)
{
  char dir[PATH_MAX], comps[PATH_MAX];
  if (cg_join(t, h, "", NULL, dir, err) < 0)
    return -1;
  snprintf(comps, sizeof comps, "%s", cgpath);
  char *save = NULL;
  for (char *c = strtok_r(comps, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    if (h->v2 && wanted && enable_controllers(parent, wanted, required, err) < 0)
      return -1;
    size_t used = strlen(dir);
    if (snprintf(dir + used, sizeof dir - used, "/%s", c) >= (int)(sizeof dir - used))
      return cut_error(err, ENAMETOOLONG, "cgroup path %s", cgpath);
    bool fresh;
    if (cg_mkdir(dir, &fresh, err) < 0)
      return -1;
    if (fresh) {
      if (made->n >= MAX_CREATED)
        return cut_error(err, E2BIG, "cgroup path %s: too deep", cgpath);
      snprintf(made->path[made->n++], PATH_MAX, "%s", dir);
    }
    if (!h->v2 && (h->ctrls & CG_BIT(CGC_CPUSET)) && cpuset_seed(dir, parent, err) < 0)
      return -1;
  }
  return 0;
}

static int
make_all(const cg_tree *t, const char *cgpath, unsigned needed, created *made, cut_err *err)
{
  /* Pure v2 also turns on the accounting controllers, so that stats
   * (memory.current, pids.current) exist even without a limit. */
  unsigned accounting = CG_BIT(CGC_MEMORY) | CG_BIT(CGC_PIDS) | CG_BIT(CGC_CPU);
  unsigned builtin = CG_BIT(CGC_DEVICES) | CG_BIT(CGC_FREEZER);
  for (size_t i = 0; i < t->n; i++) {
    const cg_hier *h = &t->h[i];
    unsigned wanted = needed & h->ctrls & ~builtin;
    if (h->v2 && t->layout->mode == CG_V2)
      wanted |= accounting & h->ctrls;
    /* A concurrent destroy may prune a shared parent (/cutaway) between
     * our mkdir of it and of the leaf: ENOENT then means "try again". */
    int r = -1;
    for (int attempt = 0; attempt < 3 && r < 0; attempt++) {
      r = make_levels(t, h, cgpath, wanted, needed & h->ctrls, made, err);
      if (r < 0 && err->errnum != ENOENT)
        return -1;
    }
    if (r < 0)
      return -1;
  }
  return 0;
}

/* Where pid sits now in hierarchy h (from /proc/<pid>/cgroup), so a failed
 * create can put it back rather than leave it in a cgroup being removed. */
static bool
original_cgroup(const cg_hier *h, pid_t pid, char *out, size_t len)
{
  char p[64], *line = NULL;
  size_t cap = 0;
  bool found = false;
  snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
  FILE *f = fopen(p, "re");
  if (f == NULL)
    return false;
  while (!found && getline(&line, &cap, f) > 0) {
    char *ctrls = strchr(line, ':'), *path = ctrls ? strchr(ctrls + 1, ':') : NULL;
    if (path == NULL)
      continue;
    *path++ = '\0';
    ctrls++;
    path[strcspn(path, "\n")] = '\0';
    if (strncmp(ctrls, "name=", 5) == 0)
      ctrls += 5;
    if ((h->v2 && ctrls[0] == '\0') || (!h->v2 && strcmp(ctrls, h->dir) == 0)) {
      snprintf(out, len, "%s", path);
      found = true;
    }
  }
  free(line);
  fclose(f);
  return found;
}

static int
join_pid(const cg_tree *t, const char *cgpath, pid_t pid, cut_err *err)
{
  char p[PATH_MAX], v[24];
  char(*back)[PATH_MAX] = calloc(t->n ? t->n : 1, PATH_MAX);
  if (back == NULL)
    return cut_error(err, ENOMEM, "join cgroup %s", cgpath);
  snprintf(v, sizeof v, "%d", (int)pid);
  int r = 0;
  size_t i;
  for (i = 0; i < t->n; i++) {
    if (!original_cgroup(&t->h[i], pid, back[i], PATH_MAX))
      back[i][0] = '\0';
    if (cg_join(t, &t->h[i], cgpath, "cgroup.procs", p, err) < 0 || cg_write(p, v, err) < 0) {
      r = -1;
      break;
    }
  }
  /* Undo the joins done so far: rmdir would fail on a populated cgroup. */
  for (size_t j = 0; r < 0 && j < i; j++) {
    cut_err ignored;
    if (back[j][0] && cg_join(t, &t->h[j], back[j], "cgroup.procs", p, &ignored) == 0)
      (void)cg_write(p, v, &ignored);
  }
  free(back);
  return r;
}

int
cg_create(const cg_layout *layout, const char *path, const cJSON *resources, pid_t pid,
          cg_handle *out, cut_err *err)
{
  if (check_path(path, err) < 0)
    return -1;
  cg_tree t;
  if (cg_tree_scan(layout, &t, err) < 0)
    return -1;
  cg_apply dry = {.tree = &t, .cgpath = path, .dry_run = true};
  if (cg_apply_resources(&dry, resources, err) < 0)
    return -1;
  created *made = calloc(1, sizeof *made);
  if (made == NULL)
    return cut_error(err, ENOMEM, "create cgroup %s", path);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "cgroup.Create", TA_STR("path", path),
              TA_STR("mode", layout->mode == CG_V2 ? "v2" : "v1"), TA_INT("pid", pid));
  cg_apply real = {.tree = &t, .cgpath = path};
  int r = make_all(&t, path, dry.needed, made, err);
  if (r == 0)
    r = cg_apply_resources(&real, resources, err);
  if (r == 0 && pid > 0)
    r = join_pid(&t, path, pid, err);
  if (r < 0)
    rollback(made);
  else
    fill_handle(layout, path, out);
  free(made);
  trace_end_rc(&sp, r, err);
  return r;
}

/* ---- enter, update ------------------------------------------------------ */

int
cg_enter(const cg_handle *h, pid_t pid, cut_err *err)
{
  cg_tree t;
  if (check_path(h->path, err) < 0 || cg_tree_scan(&h->layout, &t, err) < 0)
    return -1;
  char p[PATH_MAX], v[24];
  snprintf(v, sizeof v, "%d", (int)pid);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "cgroup.Enter", TA_STR("path", h->path), TA_INT("pid", pid));
  int r = 0;
  for (size_t i = 0; r == 0 && i < t.n; i++)
    if (cg_join(&t, &t.h[i], h->path, "cgroup.procs", p, err) < 0 || cg_write(p, v, err) < 0)
      r = -1;
  trace_end_rc(&sp, r, err);
  return r;
}

int
cg_update(const cg_handle *h, const cJSON *resources, cut_err *err)
{
  cg_tree t;
  if (check_path(h->path, err) < 0 || cg_tree_scan(&h->layout, &t, err) < 0)
    return -1;
  char leaf[PATH_MAX];
  if (t.n == 0 || cg_join(&t, &t.h[0], h->path, NULL, leaf, err) < 0)
    return cut_error(err, ENOENT, "update cgroup %s", h->path);
  if (access(leaf, F_OK) < 0)
    return cut_error(err, errno, "update cgroup %s", leaf);
  cg_apply dry = {.tree = &t, .cgpath = h->path, .dry_run = true};
  if (cg_apply_resources(&dry, resources, err) < 0)
    return -1;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "cgroup.Update", TA_STR("path", h->path));
  /* A limit on a controller not yet enabled on v2: enable it down the
   * path (the directories exist, so nothing is created). */
  unsigned builtin = CG_BIT(CGC_DEVICES) | CG_BIT(CGC_FREEZER);
  created *none = calloc(1, sizeof *none);
  int r = none ? 0 : cut_error(err, ENOMEM, "update cgroup %s", h->path);
  for (size_t i = 0; r == 0 && i < t.n; i++) {
    unsigned wanted = dry.needed & t.h[i].ctrls & ~builtin;
    if (t.h[i].v2 && wanted)
      r = make_levels(&t, &t.h[i], h->path, wanted, wanted, none, err);
  }
  free(none);
  cg_apply real = {.tree = &t, .cgpath = h->path};
  if (r == 0)
    r = cg_apply_resources(&real, resources, err);
  trace_end_rc(&sp, r, err);
  return r;
}

/* ---- freeze ------------------------------------------------------------- */

static bool
v2_frozen_is(const char *events, bool frozen)
{
  char buf[512];
  cut_err ignored;
  if (cg_read(events, buf, sizeof buf, &ignored) < 0)
    return false;
  const char *f = strstr(buf, "frozen ");
  return f && (f[7] == '1') == frozen;
}

static int
freeze_v2(const cg_tree *t, const cg_hier *hr, const char *cgpath, bool frozen, cut_err *err)
{
  char knob[PATH_MAX], events[PATH_MAX];
  if (cg_join(t, hr, cgpath, "cgroup.freeze", knob, err) < 0 ||
      cg_join(t, hr, cgpath, "cgroup.events", events, err) < 0 ||
      cg_write(knob, frozen ? "1" : "0", err) < 0)
    return -1;
  for (int i = 0; i < WAIT_STEPS; i++) {
    if (v2_frozen_is(events, frozen))
      return 0;
    nap(i);
  }
  return cut_error(err, ETIMEDOUT, "%s: cgroup.events never read \"frozen %d\"", events, frozen);
}

/* v1: FREEZING is the in-between state; a task stuck in the kernel can
 * delay it, so the state is re-written now and then while polling. */
static int
freeze_v1(const cg_tree *t, const cg_hier *hr, const char *cgpath, bool frozen, cut_err *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  char knob[PATH_MAX], state[64];
  if (cg_join(t, hr, cgpath, "freezer.state", knob, err) < 0)
    return -1;
  for (int i = 0; i < WAIT_STEPS; i++) {
    if (i % 50 == 0 && cg_write(knob, want, err) < 0)
      return -1;
    if (cg_read(knob, state, sizeof state, err) < 0)
      return -1;
    if (strcmp(state, want) == 0)
      return 0;
    nap(i);
  }
  if (frozen) { /* do not leave it half frozen */
    cut_err ignored;
    (void)cg_write(knob, "THAWED", &ignored);
  }
  return cut_error(err, ETIMEDOUT, "%s: still %s, not %s", knob, state, want);
}

int
cg_freeze(const cg_handle *h, bool frozen, cut_err *err)
{
  cg_tree t;
  if (check_path(h->path, err) < 0 || cg_tree_scan(&h->layout, &t, err) < 0)
    return -1;
  const cg_hier *hr = cg_tree_find(&t, CGC_FREEZER);
  if (hr == NULL)
    return cut_error(err, 0, "%s: no freezer under %s", frozen ? "pause" : "resume",
                     h->layout.root);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, frozen ? "cgroup.Freeze" : "cgroup.Thaw",
              TA_STR("path", h->path));
  int r =
      hr->v2 ? freeze_v2(&t, hr, h->path, frozen, err) : freeze_v1(&t, hr, h->path, frozen, err);
  trace_end_rc(&sp, r, err);
  return r;
}

/* ---- pids --------------------------------------------------------------- */

typedef struct pidvec {
  pid_t *v;
  size_t n, cap;
} pidvec;

static int
read_procs(const char *dir, pidvec *pv, cut_err *err)
{
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/cgroup.procs", dir);
  FILE *f = fopen(p, "re");
  if (f == NULL)
    return errno == ENOENT ? 0 : cut_error(err, errno, "open %s", p);
  int pid;
  while (fscanf(f, "%d", &pid) == 1) {
    if (pv->n == pv->cap) {
      size_t cap = pv->cap ? pv->cap * 2 : 16;
      pid_t *nv = realloc(pv->v, cap * sizeof *nv);
      if (nv == NULL) {
        fclose(f);
        return cut_error(err, ENOMEM, "read %s", p);
      }
      pv->v = nv;
      pv->cap = cap;
    }
    pv->v[pv->n++] = pid;
  }
  fclose(f);
  return 0;
}

/* The container may have made cgroups of its own below its root (a
 * cgroup namespace, or systemd inside): walk them all. */
static int
walk_procs(const char *dir, pidvec *pv, int depth, cut_err *err)
{
  if (read_procs(dir, pv, err) < 0)
    return -1;
  DIR *d = opendir(dir);
  if (d == NULL || depth > 32) {
    if (d)
      closedir(d);
    return 0;
  }
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char sub[PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) < (int)sizeof sub)
      r = walk_procs(sub, pv, depth + 1, err);
  }
  closedir(d);
  return r;
}

/* The hierarchy to read pids from: pids, else freezer, else any. */
static const cg_hier *
pid_tree(const cg_tree *t)
{
  const cg_hier *h = cg_tree_find(t, CGC_PIDS);
  if (h == NULL)
    h = cg_tree_find(t, CGC_FREEZER);
  return h ? h : (t->n ? &t->h[0] : NULL);
}

int
cg_pids(const cg_handle *h, pid_t **pids, size_t *n, cut_err *err)
{
  cg_tree t;
  *pids = NULL;
  *n = 0;
  if (check_path(h->path, err) < 0 || cg_tree_scan(&h->layout, &t, err) < 0)
    return -1;
  const cg_hier *hr = pid_tree(&t);
  char dir[PATH_MAX];
  pidvec pv = {0};
  if (hr == NULL)
    return 0;
  if (cg_join(&t, hr, h->path, NULL, dir, err) < 0 || walk_procs(dir, &pv, 0, err) < 0) {
    free(pv.v);
    return -1;
  }
  *pids = pv.v;
  *n = pv.n;
  return 0;
}

/* ---- destroy ------------------------------------------------------------ */

/* Remove dir and every cgroup below it, deepest first. */
static int
rmdir_tree(const char *dir, int depth, cut_err *err)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : cut_error(err, errno, "open %s", dir);
  struct dirent *de;
  int r = 0;
  while (r == 0 && depth < 32 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char sub[PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) < (int)sizeof sub)
      r = rmdir_tree(sub, depth + 1, err);
  }
  closedir(d);
  return r < 0 ? r : cg_rmdir(dir, err);
}

static int
kill_and_wait(const cg_handle *h, cut_err *err)
{
  for (int i = 0; i < WAIT_STEPS; i++) {
    pid_t *pids;
    size_t n;
    if (cg_pids(h, &pids, &n, err) < 0)
      return -1;
    for (size_t k = 0; k < n; k++)
      if (i % 20 == 0)
        kill(pids[k], SIGKILL);
    free(pids);
    if (n == 0)
      return 0;
    if (i == 0) { /* a frozen task cannot die: thaw after the signal */
      cut_err ignored;
      (void)cg_freeze(h, false, &ignored);
    }
    nap(i);
  }
  return cut_error(err, EBUSY, "cgroup %s: processes still there after SIGKILL", h->path);
}

/* Our default parent (/cutaway) goes when its last container does, so no
 * empty cutaway directory lingers; a sibling still there keeps it. */
static bool
has_subdirs(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  bool found = false;
  while (d && !found && (de = readdir(d)) != NULL)
    found = de->d_type == DT_DIR && de->d_name[0] != '.';
  if (d)
    closedir(d);
  return found || d == NULL;
}

static void
prune_default_parent(const char *hier_dir, const char *cgpath)
{
  if (strncmp(cgpath, "/cutaway/", 9) != 0)
    return;
  char p[PATH_MAX];
  if (snprintf(p, sizeof p, "%s%s", hier_dir, cgpath) >= (int)sizeof p)
    return;
  char *base = p + strlen(hier_dir) + 8; /* the '/' after "/cutaway" */
  for (char *slash = strrchr(p, '/'); slash && slash >= base; slash = strrchr(p, '/')) {
    *slash = '\0';
    cut_err ignored;
    /* Busy (another container is there) or gone: either is fine. */
    if (has_subdirs(p) || cg_rmdir(p, &ignored) < 0)
      return;
  }
}

int
cg_destroy(const cg_handle *h, cut_err *err)
{
  cg_tree t;
  if (check_path(h->path, err) < 0 || cg_tree_scan(&h->layout, &t, err) < 0)
    return -1;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "cgroup.Destroy", TA_STR("path", h->path));
  int r = kill_and_wait(h, err);
  for (size_t i = 0; r == 0 && i < t.n; i++) {
    char dir[PATH_MAX], base[PATH_MAX];
    if (cg_join(&t, &t.h[i], h->path, NULL, dir, err) < 0 ||
        cg_join(&t, &t.h[i], "", NULL, base, err) < 0 || rmdir_tree(dir, 0, err) < 0) {
      r = -1;
      break;
    }
    prune_default_parent(base, h->path);
  }
  trace_end_rc(&sp, r, err);
  return r;
}
