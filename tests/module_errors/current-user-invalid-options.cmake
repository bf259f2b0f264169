list(APPEND case_options "-DQEMU_DOCKER_IMAGES_CURRENT_USER=bad user")
