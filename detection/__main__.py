from detection.cli import main

raise SystemExit(main())
