"""Cross-cutting code every Yutang service needs; no domain code lives here."""
