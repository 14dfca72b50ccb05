/* SPDX-License-Identifier: MIT */
/* Replay driver: the main() of a fuzz target when it is not linked with
 * libFuzzer.  Runs LLVMFuzzerTestOneInput() once per file named on the
 * command line (a directory stands for its regular files, in name order),
 * each in a child process, so that one failing input does not hide the
 * others.  Prints one line per input; exits 1 if any input failed. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_one(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	int st;
	pid_t pid;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		size_t k;

		if (n == cap) {
			unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!nb) {
				fprintf(stderr, "replay: out of memory\n");
				exit(2);
			}
			buf = nb;
		}
		k = fread(buf + n, 1, cap - n, f);
		if (!k)
			break;
		n += k;
	}
	fclose(f);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("replay: fork");
		exit(2);
	}
	if (pid == 0) {
		/* an exact-size copy, so that sanitizers see reads past the end */
		unsigned char *exact = malloc(n ? n : 1);

		if (!exact)
			_exit(2);
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
		_exit(0);
	}
	free(buf);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("ok    %s (%zu bytes)\n", path, n);
		return 0;
	}
	if (WIFSIGNALED(st))
		printf("FAIL  %s: killed by signal %d\n", path, WTERMSIG(st));
	else
		printf("FAIL  %s: exit status %d\n", path, WEXITSTATUS(st));
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		char *p;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			exit(2);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));

			if (!nn)
				exit(2);
			names = nn;
		}
		names[n++] = p;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		bad |= run_one(names[i]);
		free(names[i]);
		(*count)++;
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0, count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			bad |= run_dir(argv[i], &count);
		} else {
			bad |= run_one(argv[i]);
			count++;
		}
	}
	if (!count) {
		fprintf(stderr, "replay: no inputs found\n");
		bad = 1;
	}
	printf("replayed %d input%s: %s\n", count, count == 1 ? "" : "s", bad ? "FAILED" : "ok");
	return bad;
}
