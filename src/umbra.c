/* umbra: the program's entry point.
 *
 * Parses the command line (machine/options), builds the `virt` board
 * (machine/board), then either writes the device tree (-dumpdtb) or runs the
 * machine until the guest powers off, fails, or the user quits, and exits
 * with that status: the guest's code, 1 for an unusable file, 2 for a bad
 * command line. Main thread only.
 */
#include <stdio.h>
#include "machine/board.h"
#include "machine/options.h"

int main(int argc, char **argv)
{
    /* Static: both are large (the options hold path buffers, the board its
     * device-tree buffer) and live as long as the process. */
    static struct umbra_options opts;
    static struct board board;

    switch (options_parse(argc, argv, &opts, stdout, stderr)) {
    case OPTIONS_EXIT_OK: return EXIT_STATUS_OK;
    case OPTIONS_USAGE_ERROR: return EXIT_STATUS_USAGE;
    case OPTIONS_RUN: break;
    }

    int rc = board_create(&board, &opts);
    if (rc) {
        board_destroy(&board);
        return rc;
    }
    if (opts.dumpdtb) {
        rc = board_dump_dtb(&board, opts.dumpdtb);
        if (rc == 0)
            fprintf(stderr, "umbra: device tree written to %s\n", opts.dumpdtb);
        board_destroy(&board);
        return rc;
    }
    /* The machine is not torn down after the run: the console thread may
     * still be blocked reading stdin with a pointer to the UART. The process
     * exits, and the exit handlers restore the terminal. */
    return board_run(&board);
}
