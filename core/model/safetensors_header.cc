// placeholder: implemented by the safetensors_header work
