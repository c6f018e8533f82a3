/* thread.c: see thread.h. */
#include "thread.h"

#include <pthread.h>

int
cut_thread_detached(void *(*fn)(void *), void *arg, size_t stack_size)
{
  pthread_t th;
  pthread_attr_t at;
  if (pthread_attr_init(&at) != 0)
    return -1;
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  if (stack_size)
    pthread_attr_setstacksize(&at, stack_size);
  int r = pthread_create(&th, &at, fn, arg);
  pthread_attr_destroy(&at);
  return r == 0 ? 0 : -1;
}
