/* registry_tokend: a token issuer for Docker's token authentication, and a
 * misbehaving registry front, for cutaway-image's integration tests.
 *
 * Token mode (--key/--cert): GET /token?service=S&scope=repository:N:A,...
 * answers {"token": JWT} as Docker Hub's auth server does.  The JWT is
 * RS256-signed and carries the signing certificate in its "x5c" header, so
 * docker-registry verifies it against the `rootcertbundle` of its config.
 * Anonymous requests are granted "pull"; with Basic credentials matching
 * --user, every requested action; wrong credentials get 401.
 *
 * Evil mode (--evil PORT_B --upstream URL): the "registry" on --listen wants
 * Basic auth on /v2/, and answers every manifest or blob request with a 307
 * to the same path on 127.0.0.1:PORT_B, which logs whether an Authorization
 * header arrived and redirects again to the real registry (--upstream).
 * /v2/loop/... redirects to itself forever.
 *
 * Flaky mode (--flaky BLOBDIR --upstream URL): a registry whose network
 * fails.  Manifests are redirected to the real registry; blobs are served
 * from BLOBDIR/<hex> (an OCI layout's blobs/sha256), and the repository's
 * first path component says how the first GET of each blob goes wrong:
 *   reset/...    half the body, then the connection is cut; then Range is
 *                honoured (206 + Content-Range)
 *   stall/...    half the body, then nothing until the client gives up;
 *                then Range is honoured
 *   norange/...  cut like reset/, then every GET gets the whole blob (200)
 *   broken/...   every GET of a blob over 4 KiB is cut halfway
 *
 * Every request is logged to --log as one line: "PORT METHOD PATH auth=yes|no
 * scope=..." (flaky mode: "PORT GET PATH range=bytes=N-|-").  Test helper
 * only: not installed, not part of cutaway. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
  const char *issuer, *service, *user, *log, *upstream, *flaky;
  EVP_PKEY *key;
  char *x5c; /* base64 DER of the certificate */
  int port_b;
} cfg = {.issuer = "cutaway-test-issuer", .service = "cutaway-registry"};

static void
log_line(const char *fmt, ...)
{
  if (!cfg.log)
    return;
  FILE *f = fopen(cfg.log, "a");
  if (!f)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static char *
b64(const unsigned char *data, size_t len, int url)
{
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  if (url) {
    for (int i = 0; i < n; i++)
      out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (n > 0 && out[n - 1] == '=')
      out[--n] = '\0';
  }
  return out;
}

static int
load_keys(const char *keyfile, const char *certfile)
{
  FILE *f = fopen(keyfile, "r");
  if (!f)
    return -1;
  cfg.key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  f = fopen(certfile, "r");
  if (!f)
    return -1;
  X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!cfg.key || !cert)
    return -1;
  unsigned char *der = NULL;
  int n = i2d_X509(cert, &der);
  cfg.x5c = b64(der, (size_t)n, 0);
  OPENSSL_free(der);
  X509_free(cert);
  return 0;
}

/* One "access" entry per scope: {"type":"repository","name":N,"actions":[...]} */
static void
append_access(char *out, size_t size, const char *scope, int granted_all)
{
  char type[64], name[256], actions[128];
  if (sscanf(scope, "%63[^:]:%255[^:]:%127s", type, name, actions) != 3)
    return;
  size_t n = strlen(out);
  snprintf(out + n, size - n, "%s{\"type\":\"%s\",\"name\":\"%s\",\"actions\":[", n > 1 ? "," : "",
           type, name);
  int first = 1;
  for (char *save, *a = strtok_r(actions, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
    if (!granted_all && strcmp(a, "pull") != 0)
      continue;
    n = strlen(out);
    snprintf(out + n, size - n, "%s\"%s\"", first ? "" : ",", a);
    first = 0;
  }
  n = strlen(out);
  snprintf(out + n, size - n, "]}");
}

static char *
make_jwt(const char *sub, const char *access)
{
  char header[8192], claims[8192], jti[17];
  unsigned char rnd[8];
  RAND_bytes(rnd, sizeof rnd);
  for (int i = 0; i < 8; i++)
    sprintf(jti + 2 * i, "%02x", rnd[i]);
  snprintf(header, sizeof header, "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5c\":[\"%s\"]}", cfg.x5c);
  time_t now = time(NULL);
  snprintf(claims, sizeof claims,
           "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"nbf\":%lld,"
           "\"iat\":%lld,\"jti\":\"%s\",\"access\":%s}",
           cfg.issuer, sub, cfg.service, (long long)now + 300, (long long)now - 10, (long long)now,
           jti, access);
  char *h = b64((unsigned char *)header, strlen(header), 1);
  char *c = b64((unsigned char *)claims, strlen(claims), 1);
  size_t sl = strlen(h) + 1 + strlen(c);
  char *signing = malloc(sl + 1);
  snprintf(signing, sl + 1, "%s.%s", h, c);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  size_t siglen = 0;
  EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, cfg.key);
  EVP_DigestSign(md, NULL, &siglen, (unsigned char *)signing, sl);
  unsigned char *sig = malloc(siglen);
  EVP_DigestSign(md, sig, &siglen, (unsigned char *)signing, sl);
  EVP_MD_CTX_free(md);
  char *s = b64(sig, siglen, 1);
  size_t tl = sl + 1 + strlen(s);
  char *tok = malloc(tl + 1);
  snprintf(tok, tl + 1, "%s.%s", signing, s);
  free(h);
  free(c);
  free(signing);
  free(sig);
  free(s);
  return tok;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned code, const char *ctype, const char *body,
      const char *hname, const char *hval)
{
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
  if (ctype)
    MHD_add_response_header(r, "Content-Type", ctype);
  if (hname)
    MHD_add_response_header(r, hname, hval);
  enum MHD_Result ret = MHD_queue_response(conn, code, r);
  MHD_destroy_response(r);
  return ret;
}

struct scopes {
  char list[2048];
  char access[4096];
  int all;
};

static enum MHD_Result
each_arg(void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
  struct scopes *s = arg;
  if (strcmp(key, "scope") == 0 && value) {
    size_t n = strlen(s->list);
    snprintf(s->list + n, sizeof s->list - n, "%s%s", n ? " " : "", value);
    append_access(s->access, sizeof s->access, value, s->all);
  }
  return MHD_YES;
}

static const char *
auth_header(struct MHD_Connection *conn)
{
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
}

static const char *
traceparent(struct MHD_Connection *conn)
{
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent");
}

/* Basic credentials: 1 right, 0 absent, -1 wrong. */
static int
check_basic(struct MHD_Connection *conn)
{
  char *pass = NULL;
  char *user = MHD_basic_auth_get_username_password(conn, &pass);
  if (!user)
    return 0;
  char want[512];
  snprintf(want, sizeof want, "%s:%s", user, pass ? pass : "");
  int ok = cfg.user && strcmp(want, cfg.user) == 0;
  MHD_free(user);
  if (pass)
    MHD_free(pass);
  return ok ? 1 : -1;
}

static enum MHD_Result
on_token(struct MHD_Connection *conn, unsigned port, const char *url)
{
  int creds = check_basic(conn);
  struct scopes s = {.access = "[", .all = creds == 1};
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, each_arg, &s);
  strcat(s.access, "]");
  log_line("%u GET %s auth=%s tp=%s scope=%s", port, url,
           creds == 1 ? "yes"
           : creds    ? "bad"
                      : "no",
           traceparent(conn) ? "yes" : "no", s.list);
  if (creds < 0)
    return reply(conn, 401, "application/json",
                 "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}",
                 "WWW-Authenticate", "Basic realm=\"token\"");
  char *jwt = make_jwt(creds == 1 ? "alice" : "", s.access);
  size_t n = strlen(jwt) * 2 + 128;
  char *body = malloc(n);
  snprintf(body, n, "{\"token\":\"%s\",\"access_token\":\"%s\",\"expires_in\":300}", jwt, jwt);
  enum MHD_Result r = reply(conn, 200, "application/json", body, NULL, NULL);
  free(jwt);
  free(body);
  return r;
}

static enum MHD_Result
on_evil(struct MHD_Connection *conn, unsigned port, const char *method, const char *url)
{
  const char *authz = auth_header(conn);
  log_line("%u %s %s auth=%s tp=%s", port, method, url, authz ? "yes" : "no",
           traceparent(conn) ? "yes" : "no");
  char loc[4096];
  if ((int)port == cfg.port_b) {
    snprintf(loc, sizeof loc, "%s%s", cfg.upstream, url);
    return reply(conn, 307, NULL, "", "Location", loc);
  }
  if (strcmp(url, "/v2/") == 0) {
    if (check_basic(conn) == 1)
      return reply(conn, 200, "application/json", "{}", NULL, NULL);
    return reply(conn, 401, "application/json", "{}", "WWW-Authenticate", "Basic realm=\"evil\"");
  }
  if (strstr(url, "/manifests/")) {
    /* Canned bad manifests, one repository each. */
    static const char cfgd[] = "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                               "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e"
                               "8310c060f61caaff8a\",\"size\":2}";
    char doc[1024];
    if (strncmp(url, "/v2/big/", 8) == 0) {
      size_t n = 5u << 20;
      char *big = malloc(n + 64);
      int h = snprintf(big, n + 64, "{\"schemaVersion\":2,\"pad\":\"");
      memset(big + h, 'a', n);
      strcpy(big + h + n, "\"}");
      enum MHD_Result r =
          reply(conn, 200, "application/vnd.oci.image.manifest.v1+json", big, NULL, NULL);
      free(big);
      return r;
    }
    if (strncmp(url, "/v2/confused/", 13) == 0) {
      snprintf(doc, sizeof doc,
               "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
               "\"config\":%s,\"layers\":[],\"manifests\":[]}",
               cfgd);
      return reply(conn, 200, "application/vnd.oci.image.manifest.v1+json", doc, NULL, NULL);
    }
    if (strncmp(url, "/v2/mismatch/", 13) == 0) {
      snprintf(doc, sizeof doc,
               "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
               "\"config\":%s,\"layers\":[]}",
               cfgd);
      return reply(conn, 200, "application/vnd.oci.image.index.v1+json", doc, NULL, NULL);
    }
    if (strncmp(url, "/v2/schema1/", 12) == 0)
      return reply(conn, 200, "application/vnd.docker.distribution.manifest.v1+prettyjws",
                   "{\"schemaVersion\":1,\"name\":\"schema1/img\",\"fsLayers\":[]}", NULL, NULL);
  }
  if (strncmp(url, "/v2/loop/", 9) == 0) {
    snprintf(loc, sizeof loc, "%s", url);
    return reply(conn, 302, NULL, "", "Location", loc);
  }
  snprintf(loc, sizeof loc, "http://127.0.0.1:%d%s", cfg.port_b, url);
  return reply(conn, 307, NULL, "", "Location", loc);
}

/* ---- flaky mode ------------------------------------------------------ */

struct blob_body {
  int fd;
  uint64_t base;   /* the response body starts at this blob offset (Range) */
  uint64_t end;    /* blob size */
  uint64_t cut_at; /* blob offset where the body breaks, UINT64_MAX never */
  int stall;       /* at cut_at: wait for the client to give up, then close */
  int sock;        /* the connection's socket (stall: to see the client leave) */
};

static ssize_t
blob_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct blob_body *b = cls;
  uint64_t off = b->base + pos;
  if (off >= b->cut_at) {
    for (int i = 0; b->stall && i < 600; i++) { /* at most 60 s */
      struct pollfd p = {.fd = b->sock, .events = POLLRDHUP};
      if (b->sock < 0 || poll(&p, 1, 100) != 0)
        break; /* the client closed (or we cannot tell) */
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  uint64_t stop = b->cut_at < b->end ? b->cut_at : b->end;
  size_t want = stop - off < max ? (size_t)(stop - off) : max;
  ssize_t n = pread(b->fd, buf, want, (off_t)off);
  return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
blob_free(void *cls)
{
  struct blob_body *b = cls;
  close(b->fd);
  free(b);
}

/* Has this key been seen before?  Records it. */
static int
seen_before(const char *key)
{
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  static char seen[256][160];
  static int n;
  int found = 0;
  pthread_mutex_lock(&mu);
  for (int i = 0; i < n && !found; i++)
    found = strcmp(seen[i], key) == 0;
  if (!found && n < 256)
    snprintf(seen[n++], sizeof seen[0], "%s", key);
  pthread_mutex_unlock(&mu);
  return found;
}

static enum MHD_Result
on_flaky(struct MHD_Connection *conn, unsigned port, const char *method, const char *url)
{
  const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
  log_line("%u %s %s range=%s", port, method, url, range ? range : "-");
  if (strcmp(url, "/v2/") == 0)
    return reply(conn, 200, "application/json", "{}", NULL, NULL);
  const char *blob = strstr(url, "/blobs/sha256:");
  if (!blob || strcmp(method, "GET") != 0) {
    char loc[4096];
    snprintf(loc, sizeof loc, "%s%s", cfg.upstream, url);
    return reply(conn, 307, NULL, "", "Location", loc);
  }
  const char *hex = blob + strlen("/blobs/sha256:");
  char path[4096];
  snprintf(path, sizeof path, "%s/%.64s", cfg.flaky, hex);
  struct blob_body *b = calloc(1, sizeof *b);
  struct stat st;
  b->fd = strlen(hex) == 64 && !strchr(hex, '/') ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (b->fd < 0 || fstat(b->fd, &st) < 0) {
    if (b->fd >= 0)
      close(b->fd);
    free(b);
    return reply(conn, 404, "application/json",
                 "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown\"}]}", NULL,
                 NULL);
  }
  b->end = (uint64_t)st.st_size;
  b->cut_at = UINT64_MAX;
  b->sock = -1;
  char mode[16], key[160];
  snprintf(mode, sizeof mode, "%.15s", url + 4);
  char *slash = strchr(mode, '/');
  if (slash)
    *slash = '\0'; /* "reset", "stall"... */
  snprintf(key, sizeof key, "%s:%.64s", mode, hex);
  int first = !seen_before(key);
  if ((strcmp(mode, "broken") == 0 && b->end > 4096) ||
      (first && (strcmp(mode, "reset") == 0 || strcmp(mode, "stall") == 0 ||
                 strcmp(mode, "norange") == 0))) {
    b->cut_at = b->end / 2;
    b->stall = strcmp(mode, "stall") == 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    b->sock = ci ? ci->connect_fd : -1;
  }
  uint64_t start = 0;
  unsigned long long from;
  if (range && strcmp(mode, "norange") != 0 && sscanf(range, "bytes=%llu-", &from) == 1 &&
      from < b->end)
    start = from;
  b->base = start;
  struct MHD_Response *r =
      MHD_create_response_from_callback(b->end - start, 32 * 1024, blob_read, b, blob_free);
  MHD_add_response_header(r, "Content-Type", "application/octet-stream");
  MHD_add_response_header(r, "Docker-Content-Digest", blob + strlen("/blobs/"));
  unsigned code = 200;
  if (start) {
    char cr[128];
    snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
             (unsigned long long)b->end - 1, (unsigned long long)b->end);
    MHD_add_response_header(r, "Content-Range", cr);
    code = 206;
  }
  enum MHD_Result ret = MHD_queue_response(conn, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_size, void **state)
{
  unsigned port = (unsigned)(uintptr_t)cls;
  if (cfg.flaky)
    return on_flaky(conn, port, method, url);
  if (cfg.upstream)
    return on_evil(conn, port, method, url);
  if (strcmp(url, "/token") == 0 && strcmp(method, "GET") == 0)
    return on_token(conn, port, url);
  log_line("%u %s %s auth=%s", port, method, url, auth_header(conn) ? "yes" : "no");
  return reply(conn, 404, "text/plain", "not found\n", NULL, NULL);
}

static struct MHD_Daemon *
serve(const char *hostport)
{
  char host[64];
  int port;
  if (sscanf(hostport, "%63[^:]:%d", host, &port) != 2)
    return NULL;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &sa.sin_addr);
  /* Flaky mode stalls inside a response: one thread per connection, so a
   * stalled body does not hold up the other transfers. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
  if (cfg.flaky)
    flags |= MHD_USE_THREAD_PER_CONNECTION;
  return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, (void *)(uintptr_t)port,
                          MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
}

int
main(int argc, char **argv)
{
  const char *listen = NULL, *key = NULL, *cert = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--listen"))
      listen = argv[i + 1];
    else if (!strcmp(argv[i], "--key"))
      key = argv[i + 1];
    else if (!strcmp(argv[i], "--cert"))
      cert = argv[i + 1];
    else if (!strcmp(argv[i], "--issuer"))
      cfg.issuer = argv[i + 1];
    else if (!strcmp(argv[i], "--service"))
      cfg.service = argv[i + 1];
    else if (!strcmp(argv[i], "--user"))
      cfg.user = argv[i + 1];
    else if (!strcmp(argv[i], "--log"))
      cfg.log = argv[i + 1];
    else if (!strcmp(argv[i], "--evil"))
      cfg.port_b = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--upstream"))
      cfg.upstream = argv[i + 1];
    else if (!strcmp(argv[i], "--flaky"))
      cfg.flaky = argv[i + 1];
  }
  if (!listen || (!cfg.upstream && (!key || !cert))) {
    fprintf(stderr, "usage: registry_tokend --listen HOST:PORT (--key K --cert C | --evil PORT_B "
                    "--upstream URL | --flaky BLOBDIR --upstream URL) [--user U:P] [--log FILE]\n");
    return 2;
  }
  if (key && load_keys(key, cert) < 0) {
    fprintf(stderr, "registry_tokend: cannot load %s / %s\n", key, cert);
    return 1;
  }
  struct MHD_Daemon *a = serve(listen), *b = NULL;
  if (cfg.upstream && !cfg.flaky) {
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%d", cfg.port_b);
    b = serve(hp);
  }
  if (!a || (cfg.upstream && !cfg.flaky && !b)) {
    fprintf(stderr, "registry_tokend: cannot listen: %s\n", strerror(errno));
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sig;
  sigwait(&set, &sig);
  MHD_stop_daemon(a);
  if (b)
    MHD_stop_daemon(b);
  return 0;
}
