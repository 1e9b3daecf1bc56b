from propfee.cli import main

main()
