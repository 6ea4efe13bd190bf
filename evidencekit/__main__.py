import sys

try:
    from evidencekit.cli import main
except KeyboardInterrupt:  # Ctrl-C while starting: nothing was done yet, so nothing to say
    sys.exit(130)

main()
