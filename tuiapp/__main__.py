"""python -m tuiapp"""

from tuiapp.cli.entry import main

main()
