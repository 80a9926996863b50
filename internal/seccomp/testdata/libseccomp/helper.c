/* Test helper only: compiles a rule list with libseccomp and writes the
 * BPF program to stdout, so tests can compare decisions with trustbox's
 * compiler. Input lines on stdin:
 *   default RET | badarch RET | optimize LEVEL | arch TOKEN
 *   rule RET NAME NARGS [INDEX OP VALUE VALUETWO]...
 * Names libseccomp does not know are reported on stderr as "unknown NAME". */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
	char line[4096];
	scmp_filter_ctx ctx = NULL;
	unsigned int badarch = SCMP_ACT_KILL_PROCESS, optimize = 1;
	unsigned long arches[16];
	int narch = 0;
	while (fgets(line, sizeof line, stdin)) {
		char *tok = strtok(line, " \n");
		if (!tok)
			continue;
		if (!strcmp(tok, "default")) {
			ctx = seccomp_init(strtoul(strtok(NULL, " \n"), NULL, 0));
			if (!ctx)
				return 2;
			seccomp_arch_remove(ctx, seccomp_arch_native());
		} else if (!strcmp(tok, "badarch")) {
			badarch = strtoul(strtok(NULL, " \n"), NULL, 0);
		} else if (!strcmp(tok, "optimize")) {
			optimize = strtoul(strtok(NULL, " \n"), NULL, 0);
		} else if (!strcmp(tok, "arch")) {
			arches[narch++] = strtoul(strtok(NULL, " \n"), NULL, 0);
			int rc = seccomp_arch_add(ctx, arches[narch - 1]);
			if (rc && rc != -EEXIST) {
				fprintf(stderr, "arch_add: %d\n", rc);
				return 2;
			}
		} else if (!strcmp(tok, "rule")) {
			unsigned int ret = strtoul(strtok(NULL, " \n"), NULL, 0);
			char *name = strtok(NULL, " \n");
			int nargs = atoi(strtok(NULL, " \n"));
			struct scmp_arg_cmp cmp[6];
			for (int i = 0; i < nargs; i++) {
				cmp[i].arg = atoi(strtok(NULL, " \n"));
				cmp[i].op = atoi(strtok(NULL, " \n"));
				cmp[i].datum_a = strtoull(strtok(NULL, " \n"), NULL, 0);
				cmp[i].datum_b = strtoull(strtok(NULL, " \n"), NULL, 0);
			}
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR) { /* pseudo numbers cover other arches */
				fprintf(stderr, "unknown %s\n", name);
				continue;
			}
			int rc = seccomp_rule_add_array(ctx, ret, nr, nargs, cmp);
			if (rc && rc != -EACCES) {
				fprintf(stderr, "rule_add %s: %d\n", name, rc);
				return 2;
			}
		}
	}
	if (!ctx)
		return 2;
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, badarch);
	if (optimize > 1 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, optimize)) {
		fprintf(stderr, "optimize %u unsupported\n", optimize);
		return 2;
	}
	return seccomp_export_bpf(ctx, 1) ? 3 : 0;
}
