/* main: command line, configuration, then the master. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "conf/conf.h"
#include "core/log.h"
#include "fcgi/collector.h"
#include "fcgi/master.h"
#include "oci/blobfiles_admin.h"

#define MAIN_DEFAULT_CONF SYSCONFDIR "/oci-registry-p2p.conf"
/* long options without a short one */
enum { MAIN_VERIFY = 256, MAIN_MIGRATE, MAIN_SWEEP, MAIN_DRY_RUN, MAIN_MIN_AGE, MAIN_GC };
/* sweep-files: a file put in place less than this ago may be a commit in
 * progress (the file comes before its link into MFS) */
#define MAIN_SWEEP_MIN_AGE 600

/* --verify, --migrate, --sweep-files: the blob-file commands
 * (oci/blobfiles_admin.h). */
static int main_blobfiles(const struct config *cfg, int cmd, int dry_run, time_t min_age)
{
    struct blobfiles_admin_opts o = {
        .blobdir = cfg->blobdir, .mfsroot = cfg->mfsroot, .api = cfg->ipfsapiaddress,
        .gateway = cfg->ipfsgatewayaddress, .statedir = cfg->statedir, .out = stdout, .progress = stderr,
        .dry_run = dry_run, .min_age = min_age,
    };
    log_set_level(cfg->log_level);
    return cmd == MAIN_VERIFY    ? blobfiles_verify(&o)
           : cmd == MAIN_MIGRATE ? blobfiles_migrate(&o)
                                 : blobfiles_sweep_files(&o);
}

static void main_usage(FILE *out)
{
    fprintf(out,
            "Usage: oci-registry-p2p [-c FILE] [--check-config | --verify | --migrate |\n"
            "                        --sweep-files [--dry-run] [--min-age SECONDS]]\n"
            "       oci-registry-p2p gc [-c FILE] [--dry-run]\n"
            "An OCI registry stored in IPFS (Kubo), served over FastCGI.\n"
            "\n"
            "  -c, --config FILE   configuration file; without it\n"
            "                      " MAIN_DEFAULT_CONF " if it exists,\n"
            "                      else built-in defaults and the environment\n"
            "  -t, --check-config  validate the configuration, print the effective\n"
            "                      settings and exit (0 valid, 1 invalid)\n"
            "      --verify        hash every blob file in blobdir against its name and\n"
            "                      exit: 0 all good, 1 a bad file (one line each),\n"
            "                      2 a setup error; read only, the registry may run\n"
            "      --migrate       make blob files of the blobs Kubo alone holds (pushed\n"
            "                      before blobdir was set) and exit: 0 done, 1 a blob\n"
            "                      failed, 2 a setup error; resumable, safe while the\n"
            "                      registry runs\n"
            "      --sweep-files   remove the blob files of blobs the registry no longer\n"
            "                      holds (not linked under blobs/ in MFS, put in place\n"
            "                      more than --min-age seconds ago, default 600), first\n"
            "                      re-pointing the leaves other blobs share with them;\n"
            "                      --dry-run only says what it would do. Exit 0 done,\n"
            "                      1 failed partway, 2 a setup error\n"
            "  gc                  collect garbage once and exit: manifests, links and\n"
            "                      blobs nothing kept reaches, expired uploads, blob\n"
            "                      files nothing holds; safe while the registry runs\n"
            "                      (gc_* settings); --dry-run only says what it would\n"
            "                      remove. Exit 0 done, 1 failed partway, 2 a setup error\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "The FastCGI socket is fd 0 (spawn-fcgi, lighttpd bin-path), a systemd\n"
            "socket (LISTEN_FDS), or the 'listen' setting. SIGTERM/SIGINT drain the\n"
            "workers and exit; SIGHUP reloads the configuration file.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 't' },
        { "verify", no_argument, NULL, MAIN_VERIFY },
        { "migrate", no_argument, NULL, MAIN_MIGRATE },
        { "sweep-files", no_argument, NULL, MAIN_SWEEP },
        { "dry-run", no_argument, NULL, MAIN_DRY_RUN },
        { "min-age", required_argument, NULL, MAIN_MIN_AGE },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *file = NULL;
    int cmd = 0;   /* 't', MAIN_VERIFY, MAIN_MIGRATE, MAIN_SWEEP, or 0: serve */
    int dry_run = 0;
    long long min_age = MAIN_SWEEP_MIN_AGE;
    char *end;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            file = optarg;
            break;
        case 't':
        case MAIN_VERIFY:
        case MAIN_MIGRATE:
        case MAIN_SWEEP:
            if (cmd && cmd != ch) {
                fprintf(stderr, "oci-registry-p2p: --check-config, --verify, --migrate and --sweep-files "
                                "exclude each other\n");
                return 1;
            }
            cmd = ch;
            break;
        case MAIN_DRY_RUN:
            dry_run = 1;
            break;
        case MAIN_MIN_AGE:
            errno = 0;
            min_age = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || min_age < 0) {
                fprintf(stderr, "oci-registry-p2p: --min-age: seconds, 0 or more (got '%s')\n", optarg);
                return 1;
            }
            break;
        case 'V':
            printf("oci-registry-p2p %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            main_usage(stdout);
            return 0;
        default:
            main_usage(stderr);
            return 1;
        }
    }
    /* the one word command: `gc` */
    if (optind < argc && strcmp(argv[optind], "gc") == 0) {
        if (cmd) {
            fprintf(stderr, "oci-registry-p2p: gc goes alone (not with --check-config, --verify, --migrate "
                            "or --sweep-files)\n");
            return 1;
        }
        cmd = MAIN_GC;
        optind++;
    }
    if (dry_run && cmd != MAIN_SWEEP && cmd != MAIN_GC) {
        fprintf(stderr, "oci-registry-p2p: --dry-run goes with gc or --sweep-files\n");
        return 1;
    }
    if (min_age != MAIN_SWEEP_MIN_AGE && cmd != MAIN_SWEEP) {
        fprintf(stderr, "oci-registry-p2p: --min-age goes with --sweep-files\n");
        return 1;
    }
    if (optind < argc) {
        fprintf(stderr, "oci-registry-p2p: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 1;
    }
    /* Without -c the installed file is optional: defaults plus environment
     * overrides are a complete configuration for a local Kubo node. */
    if (!file && access(MAIN_DEFAULT_CONF, F_OK) == 0)
        file = MAIN_DEFAULT_CONF;

    struct config cfg;
    char *err = NULL;
    if (config_load(file, &cfg, &err) < 0) {
        /* every error found, one line each */
        for (const char *p = err; p && *p;) {
            size_t n = strcspn(p, "\n");
            fprintf(stderr, "oci-registry-p2p: %.*s\n", (int)n, p);
            p += n + (p[n] == '\n');
        }
        fprintf(stderr, "oci-registry-p2p: configuration %s is invalid\n", file ? file : "(built-in defaults)");
        free(err);
        config_free(&cfg);
        return 1;
    }
    if (cmd == MAIN_VERIFY || cmd == MAIN_MIGRATE || cmd == MAIN_SWEEP) {
        int rc = main_blobfiles(&cfg, cmd, dry_run, (time_t)min_age);
        config_free(&cfg);
        return rc;
    }
    if (cmd == MAIN_GC) {
        log_set_level(cfg.log_level);
        int rc = collector_once(&cfg, dry_run, stdout, stderr);
        config_free(&cfg);
        return rc;
    }
    if (cmd == 't') {
        config_dump(&cfg, stdout);
        fprintf(stderr, "oci-registry-p2p: configuration %s is valid\n",
                file ? file : "(built-in defaults)");
        config_free(&cfg);
        return 0;
    }
    log_set_level(cfg.log_level);
    return master_run(&cfg);
}
