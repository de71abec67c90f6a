from contentfab.cli import main

main()
