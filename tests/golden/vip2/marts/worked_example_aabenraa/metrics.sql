select metric, sex, numerator, denominator from target_metrics where municipality_code = 580 and period = '2019Q3' and (sex = 'alle' or metric = 'JP_alle_arbejde') order by metric, sex
