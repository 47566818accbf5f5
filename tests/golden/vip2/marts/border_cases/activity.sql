select municipality_code, startede, afsluttede, afbrudte, i_gang, i_alt, borgere_i_alt from jobpakke_activity where period = '2019Q3' and sex = 'alle' order by municipality_code
