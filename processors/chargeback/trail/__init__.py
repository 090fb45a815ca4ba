"""The compliance trail's parts: its store, its verification and its report (the step and the
``verify`` command are ``processors.chargeback.compliance``)."""
