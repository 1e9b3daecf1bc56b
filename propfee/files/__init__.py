"""Files people hand us and files we hand them: reading spreadsheets and CSVs, writing xlsx/CSV, rendering templates."""
