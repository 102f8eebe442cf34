from awsome_core.cli import main

raise SystemExit(main())
