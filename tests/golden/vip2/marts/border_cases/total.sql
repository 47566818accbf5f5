select startede, afsluttede, afbrudte, i_gang, i_alt, borgere_i_alt from jobpakke_activity_total where period = '2019Q3' and sex = 'alle'
