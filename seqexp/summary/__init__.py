"""Reading run directories back into tables and figures; no TensorFlow. Modules:

sweep       summary.csv/md of a sweep or a folder of runs (the multirun callback, `seqexp summarize`)
comparison  the figures that compare runs' curves: a sweep's comparison.png, `diff --plot`, `runs --plot`
runs        every run under a folder as one table (`seqexp runs`)
diff        two runs side by side: config keys that differ, metrics, environment (`seqexp diff`)
values      numbers and labels read out of run files, shared by the above
"""
