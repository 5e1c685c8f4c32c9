/* umbra: command line entry point (being built; see machine/). */
#include <stdio.h>
int main(void)
{
    printf("umbra %s\n", UMBRA_VERSION);
    return 0;
}
