/* Test helper: makes i386 system calls through int $0x80 from a 64-bit
 * process, so the kernel's compat entry and seccomp see AUDIT_ARCH_I386. */
#include <stdio.h>
int main(void) {
	long ret;
	/* getppid is 64 on i386 */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(64L) : "memory");
	printf("i386 getppid ret=%ld\n", ret);
	/* getpid is 20 on i386 */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	printf("i386 getpid ok=%d\n", ret > 0);
	fflush(stdout);
	return 0;
}
