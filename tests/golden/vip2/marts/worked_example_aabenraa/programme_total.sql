select metric, sex, share, municipalities from project_average where metric in ('JP_alle_arbejde', 'JP_6mdr_ordinaer') and period = '2019Q3' and sex = 'alle' order by metric
