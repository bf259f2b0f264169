list(APPEND case_options -DQEMU_DOCKER_IMAGES_HELPER=/nonexistent)
