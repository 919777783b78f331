import WeDioCLI

WeDioMain.main()
