"""flowspec's expression languages: typed `when` conditions, `${{ }}` references, `depends`."""
