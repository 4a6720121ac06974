// placeholder: implemented by the safetensors_file work
