{
  "targets": [
    {
      "target_name": "vipd_native",
      "sources": ["native/vipd_native.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
