from miot_harness.cli import main

main()
