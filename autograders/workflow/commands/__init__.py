"""`ch4grade` sub-commands of the course workflow: each module has add_arguments(parser) and run(args)."""
