/* SPDX-License-Identifier: MIT */
/* The program the start-up benchmark execs: nothing but the dynamic
 * loader's work and an exit. */
int main(void)
{
	return 0;
}
