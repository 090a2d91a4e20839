"""Reports: tables, the Excel workbook, figures, comparisons (imports the layers below).

tables      campaign_report: small DataFrames about one campaign
workbook    export_report: the workbook a person is glad to receive
xlsx        the one place that writes .xlsx files (two engines)
plots       plot_report, plot_comparison (the only matplotlib importer)
compare     campaigns side by side, the A/B tables
account     the account's sends beside the campaign's
outcomes    measure_outcomes: orders, visits … attributed to campaigns, lift against the hold-out
            (outcome_input reads them, lift holds the statistics, verdicts the sentences)
"""
