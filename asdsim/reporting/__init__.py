"""What a person reads: charts, the HTML report, and the results folder written to disk."""
