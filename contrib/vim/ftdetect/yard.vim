" switchyard routing configurations (yard(5))
autocmd BufRead,BufNewFile *.yard setfiletype yard
