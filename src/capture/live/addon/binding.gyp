{
  "targets": [
    {
      "target_name": "wardwatch_capture",
      "sources": ["capture.c"],
      "libraries": ["-lpcap", "-lpthread"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
