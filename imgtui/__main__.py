from imgtui.cli import main

raise SystemExit(main())
