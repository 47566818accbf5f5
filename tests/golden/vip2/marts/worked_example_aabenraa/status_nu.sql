select status, count, denominator from jobpakke_status where municipality_code = 580 and period = '2019Q3' and sex = 'alle' and view = 'nu' order by status
