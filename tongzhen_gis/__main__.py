"""``python -m tongzhen_gis`` runs the ``tongzhen`` command line."""

from tongzhen_gis.cli import main

if __name__ == "__main__":
    main()
