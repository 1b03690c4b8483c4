// The admin token as Centrifugo makes and checks it (internal/admin/handlers.go): gorilla/securecookie with
// the admin secret as HMAC key, name "token", value "authorized".
//
//	go run securecookie.go encode <secret>          prints a token
//	go run securecookie.go decode <secret> <token>  prints "authorized" or the error
package main

import (
	"fmt"
	"os"

	"github.com/gorilla/securecookie"
)

func main() {
	s := securecookie.New([]byte(os.Args[2]), nil)
	switch os.Args[1] {
	case "encode":
		token, err := s.Encode("token", "authorized")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(token)
	case "decode":
		var value string
		if err := s.Decode("token", os.Args[3], &value); err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(value)
	}
}
