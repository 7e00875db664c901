"""One handler per subcommand: parse, call the engine or the report, print."""
