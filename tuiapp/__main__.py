"""python -m tuiapp"""

from tuiapp.cli.app import main

main()
