from pixdesk.launch import console_main

console_main()
