"""flowspec: declarative YAML workflows with Argo's semantics, locally and on Argo."""
