"""The demo estate (翠湖花园): a database built from the shipped sample data and a year of its
life played through every command, to try propfee on."""
