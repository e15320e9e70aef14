"""Reading run directories back into tables and figures; no TensorFlow. Modules:

sweep       summary.csv/md of a sweep or a folder of runs (the multirun callback, `seqexp summarize`)
comparison  comparison.png: every job's validation curve and the swept values against the best
runs        every run under a folder as one table (`seqexp runs`)
diff        two runs side by side: config keys that differ, metrics, environment (`seqexp diff`)
values      numbers and labels read out of run files, shared by the above
"""
