from rrperf.cli import command

command()
