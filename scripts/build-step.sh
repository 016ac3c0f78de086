# Sourced by scripts/run-fuzzers.sh and scripts/run-sanitizers.sh: reads their
# one optional argument into $step (all, --build-only or --no-build), or says
# how they are called and exits 2.
#
#   . "$root/scripts/build-step.sh"; psa_build_step "$0" "$@"
psa_build_step() {
    script=$1
    shift
    step=${1:-all}
    if [ $# -gt 1 ]; then
        step=invalid
    fi
    case "$step" in
        all | --build-only | --no-build) ;;
        *)
            echo "usage: $script [--build-only | --no-build]" >&2
            exit 2
            ;;
    esac
}
