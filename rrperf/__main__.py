from rrperf.cli import main

raise SystemExit(main())
