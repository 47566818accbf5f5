select metric, share, municipalities from project_average where period = '2019Q3' and sex = 'alle' and metric in ('JP_6mdr_arbejde', 'JP_alle_arbejde', 'JP_3mdr_arbejde') order by metric
