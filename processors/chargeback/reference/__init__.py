"""Reference data for chargeback validation: tables, CSV loader, fictitious-data generator."""
