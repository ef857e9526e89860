# Writes a 10 MB line without a newline, then a normal line, then sleeps.
import sys, time
chunk = "y" * (1 << 20)
for _ in range(10):
    sys.stdout.write(chunk)
sys.stdout.flush()
time.sleep(0.2)
sys.stdout.write("\nafter the big line\n")
sys.stdout.flush()
while True:
    time.sleep(3600)
