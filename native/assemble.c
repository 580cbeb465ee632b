// gamelayer-assemble: the native form of the init copy's assembly step for a chunked tree (docs/chunks.md, "The
// on-image format" and "Assembly"). The copy script runs it when the tree image carries it and it answers --probe;
// otherwise the script assembles in POSIX sh. Both do the same checks and print the same messages:
//
//   1. every recipe STORE/r/<path> (links not followed) is parsed and checked, and every chunk STORE/c/<hh>/<sha256>
//      it names is looked for and its size checked, before anything is written;
//   2. each file is written from its chunks in order to DST/<path>.gamelayer-tmp in one pass (each piece read once
//      into a small buffer, added to the file's xxh64 and written from there), then checked against the recipe's
//      xxh64 (if it does not match, each chunk is hashed on its own with sha256, its name, to name the damaged one);
//      then its mode is set and it is renamed to DST/<path>.
//
// Why xxh64 and not the recipe's sha256 (docs/chunks.md, "Security"): the chunks come from layers whose sha256
// containerd or docker verified at pull, and this binary sits in the same image as the chunks, so whoever could alter
// the chunks there could alter the assembler itself; the tree's other files are copied by plain cp with no check at
// all. This check guards against damage, truncation, bugs and wrong recipes, for which a 64-bit non-cryptographic
// hash suffices; sha256 cost more CPU than the copy itself. Recipes keep their sha256 (the sh path, audits).
//
// Any failure names the file (and the chunk), removes the temporary and makes the exit status non-zero, so the
// script never writes the tree's .complete. A few files are assembled at once by threads taking recipes from a shared
// counter (at most WORKERS, and no more than the CPUs this process may run on). Memory: each thread holds a PIECE
// buffer and the recipe of the file it assembles (under 250 bytes a chunk), whatever the chunk sizes.
//
// Usage: gamelayer-assemble TREE STORE DST WORKERS   |   --probe   |   --sha256, --xxh64 (of stdin, for tests)
// GAMELAYER_ASSEMBLE_HASH=c in the environment keeps to the portable sha256 (for tests; it names damaged chunks).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sha256.h"
// xxHash (Debian libxxhash-dev), header-only: XXH64 is inlined, nothing to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#define MAGIC "gamelayer-recipe 1"
#define TMP_SUFFIX ".gamelayer-tmp"
#define PROBE "gamelayer-assemble 1"
#define BUF (1 << 20)
/**
 * What a thread reads, hashes and writes at a time: small enough to stay in the core's cache from the read to the
 * write. Measured against 64 KiB, 256 KiB, 1 MiB, a mapped chunk written in 64 KiB pieces, and mapped + sendfile:
 * all within the noise here (docs/chunks.md, "Assembly speed"); this is the simplest, and what it hashes is exactly
 * what it writes.
 */
#define PIECE (128 << 10)

static const char *tree, *chunk_dir, *recipe_dir, *dst;

typedef struct {
  char sha[65];
  uint64_t size;
} chunk;

/** One file being assembled: what its messages need. */
typedef struct {
  const char *recipe, *rel;
  char out[4096], tmp[4096 + sizeof TMP_SUFFIX];
  uint64_t size, xxh64;
  unsigned mode;
  chunk *chunks;
  size_t n;
} job;

/** One line on stderr, "gamelayer: TREE: ...", in a single write so threads' lines do not mix. */
static void fail(const char *fmt, ...) {
  char line[16384];
  int k = snprintf(line, sizeof line, "gamelayer: %s: ", tree);
  va_list ap;
  va_start(ap, fmt);
  k += vsnprintf(line + k, sizeof line - k - 1, fmt, ap);
  va_end(ap);
  if (k > (int)sizeof line - 2) k = sizeof line - 2;
  line[k++] = '\n';
  if (write(2, line, k) < 0) _exit(2);
}

static void *must(void *p) {
  if (!p) fail("out of memory"), exit(1);
  return p;
}

// ---------------------------------------------------------------------------------------------------- recipes

static char **recipes;
static size_t n_recipes, cap_recipes;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/** Every regular file under `dir`, in name order; links are not followed. */
static void walk(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) fail("cannot read %s: %s", dir, strerror(errno)), exit(1);
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) names = must(realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names));
    names[n++] = must(strdup(e->d_name));
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    char *path = must(malloc(strlen(dir) + strlen(names[i]) + 2));
    sprintf(path, "%s/%s", dir, names[i]);
    free(names[i]);
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode)) {
      free(path);
    } else if (S_ISDIR(st.st_mode)) {
      walk(path);
      free(path);
    } else if (S_ISREG(st.st_mode)) {
      if (n_recipes == cap_recipes) recipes = must(realloc(recipes, (cap_recipes = cap_recipes ? 2 * cap_recipes : 64) * sizeof *recipes));
      recipes[n_recipes++] = path;
    } else {
      free(path);
    }
  }
  free(names);
}

static int is_hex64(const char *s) {
  size_t i = 0;
  while (s[i] && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) i++;
  return i == 64 && !s[i];
}

/** A byte count: digits, no leading zero (unless `zero_ok` and it is "0"). */
static int parse_count(const char *s, int zero_ok, uint64_t *out) {
  if (!*s || (s[0] == '0' && (s[1] || !zero_ok))) return 0;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 1;
}

/** Next line of `*p` (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p) {
  if (!**p) return NULL;
  char *line = *p, *nl = strchr(line, '\n');
  if (nl) *nl = 0, *p = nl + 1;
  else *p = line + strlen(line);
  return line;
}

/** The chunk file of a sha256: CHUNK_DIR/<hh>/<sha256>. */
static void chunk_path(char *out, size_t size, const char *sha) { snprintf(out, size, "%s/%.2s/%s", chunk_dir, sha, sha); }

// ---------------------------------------------------------------------------------------------------- assembly

/** A recipe's xxh64: 16 lower-case hex digits, as gamelayer writes them (the canonical big-endian form). */
static int parse_xxh64(const char *s, uint64_t *out) {
  if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16) return 0;
  *out = strtoull(s, NULL, 16);
  return 1;
}

/**
 * After the file's xxh64 (or a write) failed: the first chunk that is not what the recipe says, named by its sha256
 * (each chunk's name); 0 if all are sound, with the sha256 of the whole file they make in `file_sum`. Runs only on
 * that failure, so a sound file costs no sha256 at all.
 */
static int name_bad_chunk(const job *j, char file_sum[65]) {
  char path[4096], got[65];
  char *buf = must(malloc(BUF));
  sha256_ctx whole;
  sha256_init(&whole);
  for (size_t i = 0; i < j->n; i++) {
    chunk_path(path, sizeof path, j->chunks[i].sha);
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
      fail("%s (recipe %s): chunk %zu (%s) cannot be read: %s", j->rel, j->recipe, i + 1, j->chunks[i].sha, strerror(errno));
      if (fd >= 0) close(fd);
      return free(buf), 1;
    }
    if ((uint64_t)st.st_size != j->chunks[i].size) {
      fail("%s (recipe %s): chunk %zu (%s) has %lld bytes, the recipe says %llu: %s is damaged", j->rel, j->recipe, i + 1, j->chunks[i].sha,
           (long long)st.st_size, (unsigned long long)j->chunks[i].size, path);
      close(fd);
      return free(buf), 1;
    }
    sha256_ctx c;
    sha256_init(&c);
    for (ssize_t r; (r = read(fd, buf, BUF)) > 0;) sha256_update(&c, buf, (size_t)r), sha256_update(&whole, buf, (size_t)r);
    close(fd);
    sha256_hex(&c, got);
    if (strcmp(got, j->chunks[i].sha) != 0) {
      fail("%s (recipe %s): chunk %zu (%s): its bytes hash to %s: %s is damaged", j->rel, j->recipe, i + 1, j->chunks[i].sha, got, path);
      return free(buf), 1;
    }
  }
  if (file_sum) sha256_hex(&whole, file_sum);
  return free(buf), 0;
}

/** After a failed write: names the first bad chunk (none was checked on its own yet), else what kept the bytes out. */
static int write_failed(const job *j, int out, int err) {
  if (name_bad_chunk(j, NULL)) return 1;
  struct stat have;
  long long reached = fstat(out, &have) == 0 ? (long long)have.st_size : -1;
  if (err == ENOSPC || err == EDQUOT)
    fail("%s (recipe %s): only %lld of %llu bytes reached %s, yet every chunk is sound: is the volume full?", j->rel, j->recipe, reached,
         (unsigned long long)j->size, j->tmp);
  else
    fail("%s (recipe %s): only %lld of %llu bytes reached %s: %s", j->rel, j->recipe, reached, (unsigned long long)j->size, j->tmp, strerror(err));
  return 1;
}

/** All of `n` bytes to `out`; 0, or the errno that stopped it. */
static int write_all(int out, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(out, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    p += w, n -= (size_t)w;
  }
  return 0;
}

/**
 * Writes the chunks in order into the temporary in one pass: each piece of a chunk is read once into `buf` (PIECE
 * bytes, this thread's own), added to the file's xxh64 and written from there, so the bytes hashed are exactly the
 * bytes written and each byte is touched once, while it is in the cache. Each chunk's size is checked before any of
 * it is read (again: step 1 checked it). Returns 0 when all of it was written; otherwise it has printed why.
 */
static int write_chunks(const job *j, int out, XXH64_state_t *whole, char *buf) {
  char path[4096];
  for (size_t i = 0; i < j->n; i++) {
    const chunk *c = &j->chunks[i];
    chunk_path(path, sizeof path, c->sha);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      fail("%s (recipe %s): chunk %zu (%s) cannot be read: %s", j->rel, j->recipe, i + 1, c->sha, strerror(errno));
      if (fd >= 0) close(fd);
      return 1;
    }
    if ((uint64_t)st.st_size != c->size) {
      fail("%s (recipe %s): chunk %zu (%s) has %lld bytes, the recipe says %llu: %s is damaged", j->rel, j->recipe, i + 1, c->sha,
           (long long)st.st_size, (unsigned long long)c->size, path);
      close(fd);
      return 1;
    }
    for (uint64_t left = c->size; left > 0;) {
      ssize_t r = read(fd, buf, left < PIECE ? (size_t)left : PIECE);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        fail("%s (recipe %s): chunk %zu (%s) cannot be read: %s", j->rel, j->recipe, i + 1, c->sha, r < 0 ? strerror(errno) : "it ended early");
        close(fd);
        return 1;
      }
      XXH64_update(whole, buf, (size_t)r);
      int err = write_all(out, buf, (size_t)r);
      if (err) {
        close(fd);
        return write_failed(j, out, err);
      }
      left -= (uint64_t)r;
    }
    close(fd);
  }
  return 0;
}

/**
 * Makes the folders of `rel` below `dst` one by one (the tree's own folders are there already: the copy made them).
 * None may be a link: a damaged or hostile image whose copied tree holds a link where the file's folder should be
 * must not have the copy write through it, outside the volume. 0 on success; otherwise it has printed why.
 */
static int make_parents(const job *j) {
  char path[sizeof j->out];
  size_t base = strlen(dst);
  memcpy(path, j->out, sizeof path);
  for (char *slash = strchr(path + base + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = 0;
    struct stat st;
    if (lstat(path, &st) == 0) {
      if (S_ISLNK(st.st_mode)) return fail("%s (recipe %s): %s is a link in the copied tree, not a folder: refusing to write through it", j->rel, j->recipe, path + base + 1), 1;
      if (!S_ISDIR(st.st_mode)) return fail("%s (recipe %s): cannot create the folder of %s: %s is not a folder", j->rel, j->recipe, j->out, path), 1;
    } else if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      return fail("%s (recipe %s): cannot create the folder of %s: %s", j->rel, j->recipe, j->out, strerror(errno)), 1;
    }
    *slash = '/';
  }
  return 0;
}

/**
 * Reads and checks one recipe and the chunks it names (there, of their sizes), then, unless `check_only`, assembles
 * its file. 0 on success; otherwise it has printed why.
 */
static int assemble(const char *recipe, int check_only, char *buf) {
  job j = {.recipe = recipe, .rel = recipe + strlen(recipe_dir) + 1};
  int ok = 0;
  char *text = NULL;
  j.chunks = NULL;
  if ((size_t)snprintf(j.out, sizeof j.out, "%s/%s", dst, j.rel) >= sizeof j.out) return fail("%s (recipe %s): path too long", j.rel, recipe), 1;
  snprintf(j.tmp, sizeof j.tmp, "%s" TMP_SUFFIX, j.out);

  // The recipe: small (about 80 bytes a chunk), read whole.
  int fd = open(recipe, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return fail("%s (recipe %s): cannot read the recipe: %s", j.rel, recipe, strerror(errno)), 1;
  text = must(malloc((size_t)st.st_size + 1));
  ssize_t got = read(fd, text, (size_t)st.st_size);
  close(fd);
  if (got != st.st_size) return fail("%s (recipe %s): cannot read the recipe", j.rel, recipe), free(text), 1;
  text[got] = 0;
  char *p = text, *line = next_line(&p);
  if (!line || strcmp(line, MAGIC) != 0) {
    fail("%s (recipe %s): unknown recipe format \"%s\": this copy reads \"" MAGIC "\" (an image of a newer gamelayer?)", j.rel, recipe, line ? line : "");
    goto out;
  }
  const char *size = "", *mode = "", *sum = "", *xsum = "";
  while ((line = next_line(&p)) && *line) {
    char *value = strchr(line, ' ');
    if (!value) continue;
    *value++ = 0;
    if (!strcmp(line, "size")) size = value;
    else if (!strcmp(line, "mode")) mode = value;
    else if (!strcmp(line, "sha256")) sum = value;
    else if (!strcmp(line, "xxh64")) xsum = value;
  }
  if (!parse_count(size, 1, &j.size)) {
    fail("%s (recipe %s): size \"%s\": expected a byte count", j.rel, recipe, size);
    goto out;
  }
  // The scan records only these two modes: setuid, setgid or sticky bits are a hostile image's (docs/chunks.md).
  if (strcmp(mode, "755") != 0 && strcmp(mode, "644") != 0) {
    fail("%s (recipe %s): mode \"%s\": expected 755 or 644 (the modes gamelayer records)", j.rel, recipe, mode);
    goto out;
  }
  j.mode = mode[0] == '7' ? 0755 : 0644;
  if (!is_hex64(sum)) {
    fail("%s (recipe %s): sha256: expected 64 lower-case hex digits", j.rel, recipe);
    goto out;
  }
  // What the assembled file is checked against (every recipe of format 1 has it: gamelayer wrote it from the start).
  if (!parse_xxh64(xsum, &j.xxh64)) {
    fail("%s (recipe %s): xxh64: expected 16 lower-case hex digits", j.rel, recipe);
    goto out;
  }
  // The chunk list: every line checked and every chunk looked for before a byte is written.
  size_t cap = 0;
  uint64_t total = 0;
  char path[4096];
  while ((line = next_line(&p))) {
    if (j.n == cap) j.chunks = must(realloc(j.chunks, (cap = cap ? 2 * cap : 64) * sizeof *j.chunks));
    chunk *c = &j.chunks[j.n++];
    char *sp = strchr(line, ' ');
    if (sp) *sp = 0;
    if (!sp || !is_hex64(line) || !parse_count(sp + 1, 0, &c->size)) {
      fail("%s (recipe %s): chunk line %zu: expected <64 hex digits of sha256> <size>", j.rel, recipe, j.n);
      goto out;
    }
    memcpy(c->sha, line, 65);
    chunk_path(path, sizeof path, c->sha);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
      fail("%s (recipe %s): chunk %zu (%s) is missing: no %s in this image", j.rel, recipe, j.n, c->sha, path);
      goto out;
    }
    if ((uint64_t)st.st_size != c->size) {
      fail("%s (recipe %s): chunk %zu (%s) has %lld bytes, the recipe says %llu: %s is damaged", j.rel, recipe, j.n, c->sha, (long long)st.st_size,
           (unsigned long long)c->size, path);
      goto out;
    }
    total += c->size;
  }
  if (total != j.size) {
    fail("%s (recipe %s): its %zu chunks sum to %llu bytes, its size is %llu", j.rel, recipe, j.n, (unsigned long long)total, (unsigned long long)j.size);
    goto out;
  }
  if (check_only) {
    ok = 1;
    goto out;
  }

  if (make_parents(&j) != 0) goto out;
  // A link the tree held under the temporary's name is removed, never written through (the rename below replaces
  // a link under the file's own name, it does not follow it).
  if (unlink(j.tmp) != 0 && errno != ENOENT) {
    fail("%s (recipe %s): cannot create %s: %s", j.rel, recipe, j.tmp, strerror(errno));
    goto out;
  }
  int out = open(j.tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (out < 0) {
    fail("%s (recipe %s): cannot create %s: %s", j.rel, recipe, j.tmp, strerror(errno));
    goto out;
  }
  XXH64_state_t whole;
  XXH64_reset(&whole, 0);
  if (write_chunks(&j, out, &whole, buf) != 0) {
    close(out);
    unlink(j.tmp);
    goto out;
  }
  uint64_t got_xxh = XXH64_digest(&whole);
  if (got_xxh != j.xxh64) {
    close(out);
    unlink(j.tmp);
    // Which chunk: each hashed on its own now (sha256, its name), so the message names it as the sh path's does.
    char file_sum[65];
    if (name_bad_chunk(&j, file_sum)) goto out;
    if (strcmp(file_sum, sum) != 0)
      fail("%s (recipe %s): assembled %llu bytes with sha256 %s, the recipe says %llu bytes and %s, yet every chunk matches its name: the recipe is wrong",
           j.rel, recipe, (unsigned long long)j.size, file_sum, (unsigned long long)j.size, sum);
    else
      fail("%s (recipe %s): assembled %llu bytes with sha256 %s as the recipe says, but xxh64 %016llx where the recipe says %s, yet every chunk matches its name: the recipe is wrong",
           j.rel, recipe, (unsigned long long)j.size, file_sum, (unsigned long long)got_xxh, xsum);
    goto out;
  }
  // close() reports a write the file system deferred (quota, NFS); the mode before the name makes it visible.
  if (fchmod(out, j.mode) != 0 || close(out) != 0 || rename(j.tmp, j.out) != 0) {
    fail("%s (recipe %s): cannot put %s in place: %s", j.rel, recipe, j.out, strerror(errno));
    unlink(j.tmp);
    goto out;
  }
  ok = 1;
out:
  free(j.chunks);
  free(text);
  return !ok;
}

// ---------------------------------------------------------------------------------------------------- main

/** Shared by the file threads: the next recipe to take, and whether one has failed (the others then stop). */
static size_t next_recipe;
static int any_failed;

static void *worker(void *unused) {
  (void)unused;
  // This thread's one buffer: PIECE bytes, whatever the file and chunk sizes.
  char *buf = must(malloc(PIECE));
  for (;;) {
    size_t i = __atomic_fetch_add(&next_recipe, 1, __ATOMIC_RELAXED);
    if (i >= n_recipes || __atomic_load_n(&any_failed, __ATOMIC_RELAXED)) return free(buf), NULL;
    if (assemble(recipes[i], 0, buf) != 0) {
      __atomic_store_n(&any_failed, 1, __ATOMIC_RELAXED);
      return free(buf), NULL;
    }
  }
}

int main(int argc, char **argv) {
  const char *force = getenv("GAMELAYER_ASSEMBLE_HASH");
  const char *hash = sha256_select(!force || strcmp(force, "c") != 0);
  if (argc == 2 && !strcmp(argv[1], "--sha256")) {
    sha256_ctx c;
    char hex[65];
    sha256_init(&c);
    char *buf = must(malloc(BUF));
    for (ssize_t r; (r = read(0, buf, BUF)) > 0;) sha256_update(&c, buf, (size_t)r);
    sha256_hex(&c, hex);
    printf("%s\n", hex);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "--xxh64")) {
    XXH64_state_t x;
    XXH64_reset(&x, 0);
    char *buf = must(malloc(BUF));
    for (ssize_t r; (r = read(0, buf, BUF)) > 0;) XXH64_update(&x, buf, (size_t)r);
    printf("%016llx\n", (unsigned long long)XXH64_digest(&x));
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "--probe")) {
    // Proves the binary runs here and its hashes are right on this CPU.
    sha256_ctx c;
    char hex[65];
    sha256_init(&c);
    sha256_update(&c, "abc", 3);
    sha256_hex(&c, hex);
    if (strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") != 0) return 1;
    if (XXH64("abc", 3, 0) != 0x44bc2cf5ad770999ULL) return 1;
    printf(PROBE " %s\n", hash);
    return 0;
  }
  unsigned long workers = argc == 5 ? strtoul(argv[4], NULL, 10) : 0;
  if (argc != 5 || workers < 1 || workers > 64) {
    fprintf(stderr, "usage: gamelayer-assemble TREE STORE DST WORKERS (1-64) | gamelayer-assemble --probe\n");
    return 2;
  }
  tree = argv[1];
  dst = argv[3];
  char *c = must(malloc(strlen(argv[2]) + 3)), *r = must(malloc(strlen(argv[2]) + 3));
  sprintf(c, "%s/c", argv[2]);
  sprintf(r, "%s/r", argv[2]);
  chunk_dir = c, recipe_dir = r;
  walk(recipe_dir);
  if (n_recipes == 0) return 0;
  struct stat st;
  if (stat(chunk_dir, &st) != 0 || !S_ISDIR(st.st_mode)) return fail("recipes but no chunk folder %s in this image", chunk_dir), 1;
  // Step 1 for every file before any is written: a bad recipe or a missing or short chunk leaves the volume as it was.
  for (size_t i = 0; i < n_recipes; i++)
    if (assemble(recipes[i], 1, NULL) != 0) return 1;

  // Files at once: as asked, but no more than the CPUs this process may run on (each file keeps two threads busy).
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0 && (unsigned long)CPU_COUNT(&cpus) < workers) workers = (unsigned long)CPU_COUNT(&cpus);
  if (workers > n_recipes) workers = n_recipes;
  pthread_t threads[64];
  pthread_attr_t attr;
  unsigned long started = 0;
  if (pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, 256 * 1024) == 0)
    while (started < workers && pthread_create(&threads[started], &attr, worker, NULL) == 0) started++;
  pthread_attr_destroy(&attr);
  // No thread to be had: this one assembles every file.
  if (started == 0) worker(NULL);
  for (unsigned long w = 0; w < started; w++) pthread_join(threads[w], NULL);
  return any_failed;
}
