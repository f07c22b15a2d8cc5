from rcakit.cli import main

raise SystemExit(main())
