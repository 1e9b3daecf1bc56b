"""Pure building blocks every layer uses: exact money, periods, working days, errors. No I/O."""
