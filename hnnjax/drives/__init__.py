"""drives"""
